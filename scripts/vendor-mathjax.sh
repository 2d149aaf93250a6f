#!/usr/bin/env bash
# Refresh the vendored copy of MathJax that the book loads instead of a CDN (the book must render
# its math offline). Needs npm and the npm registry; the build itself needs neither.
# Usage: bash scripts/vendor-mathjax.sh [VERSION]      (default: the version recorded below)
#
# We vendor one file, es5/tex-svg-full.js: TeX input with every TeX extension built in (so nothing
# is autoloaded from a URL) and SVG output (which needs no font files). _config.yml points
# Sphinx's `mathjax_path` at it; `html_extra_path` copies book/_vendor/ to the root of the HTML.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-3.2.2}
dest=book/_vendor/mathjax
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "mathjax@$version" >/dev/null && tar xzf mathjax-*.tgz)
mkdir -p "$dest"
cp "$tmp/package/es5/tex-svg-full.js" "$dest/tex-svg-full.js"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
cat > "$dest/SOURCE.txt" <<TXT
MathJax $version (Apache License 2.0, see LICENSE), from the npm package mathjax@$version:
package/es5/tex-svg-full.js, unmodified. sha256:
$(sha256sum "$dest/tex-svg-full.js" | cut -d' ' -f1)
Refresh with: bash scripts/vendor-mathjax.sh [VERSION]
TXT
echo "[mathjax] vendored mathjax@$version into $dest ($(du -h "$dest/tex-svg-full.js" | cut -f1))"
