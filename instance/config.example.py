# Copy to instance/config.py. Environment variables prefixed FLOORPLAN_ override these.
# Make a key with: python3 -c "import secrets; print(secrets.token_urlsafe(48))"
# SECRET_KEY = "a long random value"
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://floorplan@localhost/floorplan"
# ENV_NAME = "production"
# PATIENTS_PER_PAGE = 25
