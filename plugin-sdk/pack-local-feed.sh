#!/usr/bin/env bash
# The plugin author's first command (docs/plugin-authoring.md): packs the SDK (LwsPlugins.Sdk) and the template pack
# (LwsPlugins.Templates) from this repository into the local folder feed artifacts/feed, and installs the template from
# there. A plugin made with `dotnet new lws-plugin` then carries a NuGet.config naming that feed, so its first
# `dotnet build` restores LwsPlugins.Sdk with no feed path and no version typed.
#
# Re-running it re-packs the same version (LwsSdkPackageVersion in Directory.Build.props). NuGet caches a package by
# id and version, so the script also deletes that version of lwsplugins.sdk from the global packages folder in effect
# (NUGET_PACKAGES, or the one under DOTNET_CLI_HOME / HOME): the next restore extracts the package just packed.
#
# It uses the dotnet CLI's own settings only; for a private template hive and package folder (as the CI test does),
# run it, and the commands after it, with DOTNET_CLI_HOME set to a private folder.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
feed="$repo/artifacts/feed"

mkdir -p "$feed"
# Only this pack's files in the feed, so the globs below match exactly one package each.
rm -f "$feed"/LwsPlugins.Sdk.*nupkg "$feed"/LwsPlugins.Templates.*nupkg
dotnet pack "$repo/plugin-sdk/LwsPlugins.Sdk" -o "$feed" -nologo -v q
dotnet pack "$repo/templates/LwsPlugins.Templates" -o "$feed" -nologo -v q "-p:LwsTemplateFeed=$feed"

sdk_packages=("$feed"/LwsPlugins.Sdk.*.nupkg)
template_packages=("$feed"/LwsPlugins.Templates.*.nupkg)
if [ "${#sdk_packages[@]}" -ne 1 ] || [ "${#template_packages[@]}" -ne 1 ]; then
  echo "pack-local-feed.sh: expected one LwsPlugins.Sdk and one LwsPlugins.Templates package in $feed" >&2
  exit 1
fi
version="${sdk_packages[0]##*/LwsPlugins.Sdk.}"
version="${version%.nupkg}"

packages="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: //p')"
if [ -n "$packages" ]; then
  rm -rf "${packages%/}/lwsplugins.sdk/$version"
fi

# The same version may be installed from an earlier pack. Uninstall it first: `dotnet new install --force` of the same
# version registers the package a second time (SDK 10.0.401), and `dotnet new lws-plugin` then fails with exit 70.
dotnet new uninstall LwsPlugins.Templates >/dev/null 2>&1 || true
dotnet new install "${template_packages[0]}"

echo "LwsPlugins.Sdk $version and its template are in $feed; next: dotnet new lws-plugin -n <Name> --protocol <protocol>"
