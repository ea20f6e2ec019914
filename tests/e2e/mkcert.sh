#!/usr/bin/env bash
# mkcert.sh OUTDIR: make a throwaway CA (ca.pem, ca.key) and a server
# certificate signed by it (server.pem, server.key) whose SANs cover the LLM
# provider hosts the e2e tests redirect to 127.0.0.1, and llm.internal (a
# self-hosted server no provider table knows). Nothing here is trusted
# outside the tests: clients get the CA explicitly (curl --cacert, ssl context).
set -euo pipefail
out=${1:?usage: mkcert.sh OUTDIR}
mkdir -p "$out"
cd "$out"

sans=(
  DNS:api.openai.com DNS:*.openai.azure.com DNS:*.cognitiveservices.azure.com
  DNS:*.services.ai.azure.com
  DNS:api.anthropic.com
  DNS:generativelanguage.googleapis.com DNS:aiplatform.googleapis.com
  DNS:*-aiplatform.googleapis.com DNS:us-central1-aiplatform.googleapis.com
  DNS:bedrock-runtime.us-east-1.amazonaws.com DNS:bedrock-runtime.us-west-2.amazonaws.com
  DNS:bedrock-runtime.eu-west-1.amazonaws.com
  DNS:api.mistral.ai DNS:api.groq.com DNS:api.deepseek.com DNS:api.x.ai
  DNS:openrouter.ai DNS:api.together.xyz DNS:api.together.ai
  DNS:api.cohere.com DNS:api.cohere.ai DNS:api.fireworks.ai DNS:api.perplexity.ai
  DNS:localhost IP:127.0.0.1 IP:::1
  DNS:llm.internal
)
san=$(IFS=,; echo "${sans[*]}")

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 \
  -keyout ca.key -out ca.pem -subj "/CN=llmops e2e test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

openssl req -newkey rsa:2048 -nodes -sha256 \
  -keyout server.key -out server.csr -subj "/CN=api.openai.com" 2>/dev/null

cat > server.ext <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san
EOF
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
  -days 2 -sha256 -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext ca.srl
