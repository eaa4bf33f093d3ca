"""Live figures from the platform's Prometheus: what ``mlplat status`` shows next to the phase table."""
