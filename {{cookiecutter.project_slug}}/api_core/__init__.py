"""What every API endpoint shares: error format, parsing, pagination, throttling, schema, health."""
