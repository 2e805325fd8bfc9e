#!/bin/sh
# Refresh the vendored EventCalendar (vkurko/calendar, MIT) from the npm registry, never a CDN.
#
#   scripts/vendor-event-calendar.sh [VERSION]     (default: the registry's latest)
#
# @event-calendar/core ships ES modules that import Svelte and need a bundler; the same
# project publishes the browser-ready bundle of core with all its plugins (resource time grid,
# interaction, ...) as @event-calendar/build. We vendor that bundle, so the app needs no
# JavaScript build step. The tarball's integrity is checked by npm pack against the registry.
set -eu
PACKAGE=@event-calendar/build
VERSION=${1:-$(npm view "$PACKAGE" version)}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TARGET="$HERE/scheduler/static/vendor/event-calendar"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm pack --silent "$PACKAGE@$VERSION" >/dev/null
tar xzf ./*.tgz
TARBALL=$(npm view "$PACKAGE@$VERSION" dist.tarball)
INTEGRITY=$(npm view "$PACKAGE@$VERSION" dist.integrity)
LICENSE=$(npm view "$PACKAGE@$VERSION" license)
[ "$LICENSE" = "MIT" ] || { echo "licence is now '$LICENSE': review before vendoring" >&2; exit 1; }

mkdir -p "$TARGET"
cp package/dist/event-calendar.min.js package/dist/event-calendar.min.css "$TARGET/"
# The npm tarball carries no LICENSE file; the project's licence (MIT, (c) 2021 vkurko) is kept
# beside the files. Keep it when refreshing unless upstream changed its terms.
[ -f "$TARGET/LICENSE" ] || { echo "LICENSE missing in $TARGET: copy it from github.com/vkurko/calendar" >&2; exit 1; }
cat > "$TARGET/VERSION" <<INFO
package: $PACKAGE (browser bundle of @event-calendar/core with all plugins)
version: $VERSION
licence: $LICENSE
source: $TARBALL
integrity: $INTEGRITY
upstream: https://github.com/vkurko/calendar
refreshed by: scripts/vendor-event-calendar.sh
INFO
echo "vendored $PACKAGE $VERSION into $TARGET"
