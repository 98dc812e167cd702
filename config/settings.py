# Defaults for this installation, read before the environment (environment variables win).
# Every setting is documented in README.md. Keep secrets out of this file: set SECRET_KEY,
# DATABASE_URL and REDIS_URL in the environment of the service instead.

# PORT = 5000
# TOOL_BASE_URL = "https://lti.example.edu"
# BEHIND_PROXY = True      # trust X-Forwarded-Proto/Host from one proxy hop
# KEY_GRACE_DAYS = 7       # how long a rotated-out public key stays in the JWKS
# JWT_LEEWAY_SECONDS = 10  # clock skew allowed on iat/nbf/exp of platform tokens
