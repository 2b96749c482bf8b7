"""rightsend's send-time model: features -> train (LightGBM) -> registry -> score (ml.send_scores)."""
