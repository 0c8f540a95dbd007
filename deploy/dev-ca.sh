#!/bin/sh
# A private CA and DS configurations for trying federation on one machine.
#
#   deploy/dev-ca.sh DIR DOMAIN=IP:PORT...
#
# writes into DIR (created if missing):
#   ca.pem, ca.key.pem               the CA (kept if it already exists)
#   DOMAIN.crt.pem, DOMAIN.key.pem   a certificate for each DOMAIN (its only SAN)
#   DOMAIN.toml                      a `mimi-ds serve --config` file: listening on
#                                    IP:PORT (admin on IP:PORT+1000), data in
#                                    DIR/DOMAIN/, trusting the CA, every other
#                                    DOMAIN as a peer at its IP:PORT
# Development only: the keys are unencrypted files.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 DIR DOMAIN=IP:PORT..." >&2; exit 2; }
dir=$1; shift
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if [ ! -f "$dir/ca.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -subj "/CN=mimi dev CA" -keyout "$dir/ca.key.pem" -out "$dir/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

for spec in "$@"; do
  domain=${spec%%=*}; addr=${spec#*=}
  [ "$domain" != "$spec" ] && [ -n "$addr" ] || { echo "bad $spec: expected DOMAIN=IP:PORT" >&2; exit 2; }
  ip=${addr%:*}; port=${addr##*:}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=$domain" -keyout "$dir/$domain.key.pem" -out "$dir/$domain.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:$domain" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth,clientAuth" \
    > "$dir/$domain.ext"
  openssl x509 -req -in "$dir/$domain.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key.pem" \
    -CAcreateserial -days 825 -extfile "$dir/$domain.ext" -out "$dir/$domain.crt.pem" 2>/dev/null
  rm -f "$dir/$domain.csr" "$dir/$domain.ext"
  {
    printf 'domain = "%s"\ndata_dir = "%s"\n\n' "$domain" "$dir/$domain"
    printf '[listen]\naddress = "%s"\n\n' "$addr"
    printf '[admin]\naddress = "%s:%s"\n\n' "$ip" "$((port + 1000))"
    printf '[tls]\ncert = "%s"\nkey = "%s"\n\n' "$dir/$domain.crt.pem" "$dir/$domain.key.pem"
    printf '[federation]\ntrust_roots = ["%s"]\n' "$dir/ca.pem"
    for other in "$@"; do
      [ "${other%%=*}" = "$domain" ] && continue
      printf '\n[[federation.peers]]\ndomain = "%s"\naddress = "%s"\n' "${other%%=*}" "${other#*=}"
    done
  } > "$dir/$domain.toml"
  echo "$dir/$domain.toml"
done
