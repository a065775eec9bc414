"""Pure domain logic: vocabulary, catalogue, progression and rules (no Flask, no SQLAlchemy)."""
