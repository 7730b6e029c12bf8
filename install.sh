#!/bin/sh
# tsk installer, used as:  curl -sfL https://HOST/install.sh | sh -
#   server:  curl -sfL .../install.sh | sh -
#   agent:   curl -sfL .../install.sh | TSK_URL=https://SERVER:6443 TSK_TOKEN=TOKEN sh -
# Environment (named after k3s's installer):
#   TSK_URL, TSK_TOKEN            join as an agent (TSK_URL set ⇒ agent)
#   INSTALL_TSK_EXEC              extra flags, or the command (server|agent) followed by flags
#   INSTALL_TSK_BINARY            install this local file instead of downloading (air-gapped installs)
#   INSTALL_TSK_DOWNLOAD_URL      where to download the executable (default: $TSK_RELEASE_URL/tsk-linux-<arch>)
#   INSTALL_TSK_BIN_DIR           default /usr/local/bin
#   INSTALL_TSK_SYSTEMD_DIR       default /etc/systemd/system
#   INSTALL_TSK_SKIP_ENABLE=true  write files but do not enable the service
#   INSTALL_TSK_SKIP_START=true   write files but do not start the service
set -e

info() { echo "[INFO]  $*"; }
fatal() { echo "[ERROR] $*" >&2; exit 1; }

BIN_DIR=${INSTALL_TSK_BIN_DIR:-/usr/local/bin}
SYSTEMD_DIR=${INSTALL_TSK_SYSTEMD_DIR:-/etc/systemd/system}

[ "$(id -u)" = 0 ] || [ -n "${INSTALL_TSK_BIN_DIR:-}" ] || fatal "run the installer as root (or with sudo)"

case "$(uname -m)" in
  x86_64|amd64) ARCH=x64 ;;
  aarch64|arm64) ARCH=arm64 ;;
  *) fatal "unsupported architecture $(uname -m): tsk runs on x86_64 and arm64 (aarch64)" ;;
esac

# server or agent
CMD=server
case "${INSTALL_TSK_EXEC:-}" in
  server*|agent*) CMD=${INSTALL_TSK_EXEC%% *}; [ "$CMD" = "$INSTALL_TSK_EXEC" ] && EXTRA="" || EXTRA=${INSTALL_TSK_EXEC#* } ;;
  *) EXTRA=${INSTALL_TSK_EXEC:-} ;;
esac
if [ -n "${TSK_URL:-}" ] && [ "$CMD" = server ] && [ -z "${INSTALL_TSK_EXEC:-}" ]; then CMD=agent; fi
if [ "$CMD" = agent ]; then
  [ -n "${TSK_URL:-}" ] || fatal "an agent needs TSK_URL=https://SERVER:6443"
  [ -n "${TSK_TOKEN:-}" ] || fatal "an agent needs TSK_TOKEN (see /var/lib/tsk/server/token on the server)"
  case "$TSK_URL" in https://*) ;; *) fatal "TSK_URL must start with https://" ;; esac
fi
SERVICE=tsk
[ "$CMD" = agent ] && SERVICE=tsk-agent

# the executable
mkdir -p "$BIN_DIR"
if [ -n "${INSTALL_TSK_BINARY:-}" ]; then
  [ -f "$INSTALL_TSK_BINARY" ] || fatal "INSTALL_TSK_BINARY=$INSTALL_TSK_BINARY does not exist"
  info "installing $INSTALL_TSK_BINARY to $BIN_DIR/tsk"
  cp "$INSTALL_TSK_BINARY" "$BIN_DIR/tsk.tmp"
else
  URL=${INSTALL_TSK_DOWNLOAD_URL:-${TSK_RELEASE_URL:-}/tsk-linux-$ARCH}
  case "$URL" in /*|http*) ;; *) fatal "set INSTALL_TSK_DOWNLOAD_URL (or INSTALL_TSK_BINARY for an air-gapped install)" ;; esac
  info "downloading $URL"
  if command -v curl >/dev/null; then curl -sfL -o "$BIN_DIR/tsk.tmp" "$URL" || fatal "download of $URL failed"
  elif command -v wget >/dev/null; then wget -qO "$BIN_DIR/tsk.tmp" "$URL" || fatal "download of $URL failed"
  else fatal "neither curl nor wget is installed"; fi
fi
chmod 755 "$BIN_DIR/tsk.tmp"
"$BIN_DIR/tsk.tmp" version >/dev/null 2>&1 || { rm -f "$BIN_DIR/tsk.tmp"; fatal "the downloaded executable does not run on this machine (needs glibc >= 2.34)"; }
mv -f "$BIN_DIR/tsk.tmp" "$BIN_DIR/tsk"

# helper scripts
cat > "$BIN_DIR/tsk-killall.sh" <<KILLALL
#!/bin/sh
# Stops tsk, its containers and containerd, and removes what the node set up (bridge, iptables chains, mounts).
[ "\$(id -u)" = 0 ] || exec sudo "\$0" "\$@"
command -v systemctl >/dev/null && systemctl stop $SERVICE 2>/dev/null
exec "$BIN_DIR/tsk" killall "\$@"
KILLALL
cat > "$BIN_DIR/tsk-uninstall.sh" <<UNINSTALL
#!/bin/sh
# Removes tsk: the service, the executable and its data (/var/lib/tsk, /etc/tsk).
set -x
[ "\$(id -u)" = 0 ] || exec sudo "\$0" "\$@"
"$BIN_DIR/tsk-killall.sh"
if command -v systemctl >/dev/null; then systemctl disable $SERVICE 2>/dev/null; fi
rm -f "$SYSTEMD_DIR/$SERVICE.service" "$SYSTEMD_DIR/$SERVICE.service.env"
command -v systemctl >/dev/null && systemctl daemon-reload
rm -rf /var/lib/tsk /etc/tsk /run/tsk
rm -f "$BIN_DIR/tsk" "$BIN_DIR/tsk-killall.sh" "$BIN_DIR/tsk-uninstall.sh"
UNINSTALL
chmod 755 "$BIN_DIR/tsk-killall.sh" "$BIN_DIR/tsk-uninstall.sh"

# the service
mkdir -p "$SYSTEMD_DIR"
ENV_FILE="$SYSTEMD_DIR/$SERVICE.service.env"
umask 077
: > "$ENV_FILE"
[ -n "${TSK_TOKEN:-}" ] && echo "TSK_TOKEN=$TSK_TOKEN" >> "$ENV_FILE"
[ -n "${TSK_URL:-}" ] && echo "TSK_SERVER=$TSK_URL" >> "$ENV_FILE"
umask 022
cat > "$SYSTEMD_DIR/$SERVICE.service" <<UNIT
[Unit]
Description=tsk - lightweight Kubernetes ($CMD)
Documentation=https://github.com/tsk-project/tsk
Wants=network-online.target
After=network-online.target

[Service]
Type=exec
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-$ENV_FILE
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=$BIN_DIR/tsk $CMD $EXTRA

[Install]
WantedBy=multi-user.target
UNIT
sed -i 's/[[:space:]]*$//' "$SYSTEMD_DIR/$SERVICE.service"
info "wrote $SYSTEMD_DIR/$SERVICE.service"

if [ "${INSTALL_TSK_SKIP_ENABLE:-}" != true ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable "$SERVICE" >/dev/null
  if [ "${INSTALL_TSK_SKIP_START:-}" != true ]; then
    info "starting $SERVICE"
    systemctl restart "$SERVICE"
  fi
else
  info "systemd is not running here: start tsk with '$BIN_DIR/tsk $CMD $EXTRA'"
fi
[ "$CMD" = server ] && info "kubeconfig: /etc/tsk/tsk.yaml (export KUBECONFIG=/etc/tsk/tsk.yaml)"
exit 0
