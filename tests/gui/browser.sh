#!/bin/sh
# browser.sh RECORD URL: a stand-in web browser for fzc-gui's tests; it
# only writes down the URL it was asked to open.
printf '%s\n' "$2" >>"$1"
