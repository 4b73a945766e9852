#!/bin/sh
# make test runs this before pytest: the page's tests (tests/test_service_page.py) drive Debian's
# Chromium (/usr/bin/chromium) through Playwright's Python package — `playwright install` cannot
# download browsers here. Where it is missing and we are root on a Debian-like system, install the
# distribution's package. A failure is not fatal: it is said, and those tests then skip with the
# reason. Idempotent and quiet when Chromium is already there.
set -u
if [ "${DATAGEN_TEST_CHROMIUM:-}" = "skip" ]; then exit 0; fi
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "datagen tests: installing Chromium (apt-get install -y chromium) ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    if apt-get install -y -q chromium >/dev/null 2>&1 || \
        { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; then
        if [ -x /usr/bin/chromium ]; then exit 0; fi
    fi
    echo "datagen tests: could not install Chromium; the page's tests will skip" >&2
    exit 0
fi
echo "datagen tests: Chromium is not installed at /usr/bin/chromium (e.g. apt-get install chromium);" >&2
echo "the page's tests will skip (DATAGEN_TEST_CHROMIUM=skip silences this)" >&2
exit 0
