"""terraform adapter: the contract (protocol.py) and its implementation(s)."""
