/** The shell entry points every bundle carries. Only POSIX sh and tar are assumed on the taskbox. */

const PICK_NODE = `here=$(cd "$(dirname "$0")" && pwd)
case "$(uname -m)" in
  x86_64|amd64) arch=amd64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "$(basename "$0"): unsupported machine $(uname -m)" >&2; exit 2 ;;
esac
node="$here/bin/node"
[ -x "$here/bin/node-$arch" ] && node="$here/bin/node-$arch"
[ -x "$node" ] || { echo "$(basename "$0"): this bundle has no Node.js runtime for $arch" >&2; exit 2; }`;

export const INSTALL_SH = `#!/bin/sh
# Installs the cluster from this bundle, with nothing from the internet:
# verifies every byte, serves the bundle's mirror, wires the nodes to it, runs the playbooks.
# Arguments are passed to \`ks-bundle install --offline\` (-i, -c, --mode, --yes, ...); --mode skips the menu.
set -eu
${PICK_NODE}
mode_given=no
for a in "$@"; do
  case "$a" in --mode|--mode=*|-h|--help) mode_given=yes ;; esac
done
if [ "$mode_given" = no ]; then
  echo "Please select the installation mode:"
  echo "1) All-in-one  2) Multi-node  3) Quit"
  printf '> '
  read -r choice || exit 1
  case "$choice" in
    1) set -- --mode all-in-one "$@" ;;
    2) set -- --mode multi-node "$@" ;;
    *) exit 0 ;;
  esac
fi
exec "$node" "$here/bin/ks-bundle.mjs" install --offline "$here" "$@"
`;

export const INIT_INSTALLER_SH = `#!/bin/sh
# The offline appendix on its own: verify and unpack the bundle, start its mirror, and point this machine's apt and
# pip at it with Ansible installed into a venv from it. Nodes and the cluster are left alone.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
${PICK_NODE.replace('here=$(cd "$(dirname "$0")" && pwd)\n', 'here=$(pwd)\n')}
exec "$node" "$here/bin/ks-bundle.mjs" install --offline "$here" --only init "$@"
`;
