#!/usr/bin/env bash
# Regenerates the screenshots in docs/console/ (used by docs/console.md): a real gateway with some traffic, a budget,
# keys and a document, every console page captured in headless chromium (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
GATEWAY_CONSOLE_SCREENSHOTS="$PWD/docs/console" \
  dotnet test tests/Gateway.IntegrationTests --filter "FullyQualifiedName~ConsoleScreenshotTests" "$@"
ls -l docs/console/*.png
