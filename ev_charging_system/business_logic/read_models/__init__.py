"""The one family of output models: what REST, MCP and the chat return.

Built from domain objects here, once; adapters return them as they are. Nothing secret is
ever copied (a station's password hash is not a field; a transaction's id tag is the tag's
public identifier).
"""
