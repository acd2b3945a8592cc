#!/bin/sh
# Fails unless the JUnit XML file $1 (xUnit v3 -result-junit) shows tests that ran, none failed and none skipped:
# under the guest runner a skipped kernel test is a test that proved nothing. A case that must skip in a given guest
# (and says why in its skip reason) is named after the file: then exactly the named cases must be the skipped ones.
#
#   eng/guest/check-junit.sh artifacts/guest/kernel.junit.xml
#   eng/guest/check-junit.sh artifacts/guest-fabric/conformance.junit.xml Conformance.NetMq.KernelNetMqTests.Connect_ToLocalCidLoopback_MessagesFlow
set -eu
file="${1:?usage: check-junit.sh FILE.xml [ALLOWED-SKIPPED-CASE...]}"
shift
if [ ! -s "$file" ]; then
  echo "check-junit: $file is missing or empty: no test ran" >&2
  exit 1
fi
# Sum an attribute over every <testsuite ...> element.
sum() { grep -o "<testsuite [^>]*" "$file" | grep -o " $1=\"[0-9]*\"" | tr -dc '0-9\n' | awk '{ s += $1 } END { print s + 0 }'; }
tests="$(sum tests)"
failures="$(sum failures)"
errors="$(sum errors)"
skipped="$(sum skipped)"
echo "check-junit: $file: $tests tests, $failures failed, $errors errors, $skipped skipped"
# The skipped cases, one name a line, with their reasons for the log.
skipped_names="$(grep -o '<testcase name="[^"]*"[^>]*><skipped>[^<]*' "$file" | sed 's/^<testcase name="\([^"]*\)".*<skipped>\(.*\)$/\1\t\2/' || true)"
if [ -n "$skipped_names" ]; then
  printf '%s\n' "$skipped_names" | sed 's/^/check-junit: skipped: /'
fi
actual="$(printf '%s\n' "$skipped_names" | cut -f1 | sed '/^$/d' | sort)"
allowed="$(for name in "$@"; do echo "$name"; done | sort)"
if [ "$tests" -eq 0 ] || [ "$failures" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$actual" != "$allowed" ]; then
  if [ $# -eq 0 ]; then
    echo "check-junit: FAIL (need > 0 tests, 0 failed, 0 errors, 0 skipped)" >&2
  else
    echo "check-junit: FAIL (need > 0 tests, 0 failed, 0 errors, and exactly these skipped: $*)" >&2
  fi
  exit 1
fi
