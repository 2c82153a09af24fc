"""Settings (look-alikes and one ignored secret)."""
import os

# look-alikes: none of these is a secret
API_KEY = os.environ["API_KEY"]
password = "${DB_PASSWORD}"
token = "{{ .Values.token }}"
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
secret_name = "my-secret"
checksum = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

# planted, but acknowledged inline
STRIPE = "sk_live_rBFbyvQRZzUk1D6iNIb6zLKQ"  # shipgate:ignore test account
# planted and reported
client = Client(token="ghp_bfPBi3DldqyunDuvW4yrW81Aq1fEbVId8woP")
