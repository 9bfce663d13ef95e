#!/usr/bin/env bash
# Makes `import featpipe` work for Debian's python3 from any folder: a .pth
# file in the user's site-packages naming build/python (the package as the
# build leaves it: rebuilding updates it, nothing to reinstall).
# `cmake --install` installs it under <prefix>/lib/python3.X/dist-packages
# instead.
set -euo pipefail
cd "$(dirname "$0")/.."
site=$(/usr/bin/python3 -c 'import site; print(site.getusersitepackages())')
mkdir -p "$site"
echo "$PWD/build/python" > "$site/featpipe.pth"
(cd / && /usr/bin/python3 -c 'import featpipe; print("python3: import featpipe", featpipe.__version__, "from", featpipe.__path__[0])')
