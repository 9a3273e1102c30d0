// Replaced by the fixture server implementation.
