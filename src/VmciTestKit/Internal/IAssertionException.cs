namespace Vmci.TestKit.Internal;

/// <summary>
/// The marker xUnit.net v3 looks for by name ("third party assertion library extension points"): an exception
/// implementing an interface called <c>IAssertionException</c>, in any namespace, is reported as an assertion
/// failure rather than as an unexpected exception. Other frameworks ignore it.
/// </summary>
internal interface IAssertionException;
