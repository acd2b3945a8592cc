#!/bin/sh
# Fails unless the JUnit XML file $1 (xUnit v3 -result-junit) shows tests that ran, none failed and none skipped:
# under the guest runner a skipped kernel test is a test that proved nothing.
#
#   eng/guest/check-junit.sh artifacts/guest/kernel.junit.xml
set -eu
file="${1:?usage: check-junit.sh FILE.xml}"
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
if [ "$tests" -eq 0 ] || [ "$failures" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$skipped" -ne 0 ]; then
  echo "check-junit: FAIL (need > 0 tests, 0 failed, 0 errors, 0 skipped)" >&2
  exit 1
fi
