#!/bin/sh
# Certificates for deploy/docker-compose.yml, from a private CA:
#
#   deploy/compose/make-certs.sh
#
# writes deploy/compose/certs/ (via deploy/dev-ca.sh):
#   ca.pem, ca.key.pem                           the CA (kept if it already exists;
#                                                 ca.key.pem is never mounted)
#   ds-a.example.crt.pem, ds-a.example.key.pem   ds-a.example's certificate and key
#   ds-b.example.crt.pem, ds-b.example.key.pem   ds-b.example's
#   ds-c.example.crt.pem, ds-c.example.key.pem   ds-c.example's (the
#                                                 "conformance" profile's third domain)
# Rerunning issues new domain certificates under the same CA. The domain keys
# are made world-readable so the containers' user `mimi` (uid 10001) can read
# the bind mounts: development only. Clients outside the containers trust
# certs/ca.pem (e.g. `mimi-chat --ca deploy/compose/certs/ca.pem`).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/certs"
# dev-ca.sh also writes host-path configs; the compose configs are
# deploy/compose/DOMAIN.toml, so those are removed.
"$here/../dev-ca.sh" "$out" ds-a.example=0.0.0.0:8443 ds-b.example=0.0.0.0:8443 \
  ds-c.example=0.0.0.0:8443 >/dev/null
for d in ds-a.example ds-b.example ds-c.example; do
  rm -f "$out/$d.toml"
  chmod 0644 "$out/$d.crt.pem" "$out/$d.key.pem"
done
chmod 0644 "$out/ca.pem"
chmod 0600 "$out/ca.key.pem"
echo "certificates in $out"
