"""The lab service: every rule a visitor of a public front end meets (caps, ownership, rate limits, drawings)."""
