"""The chat framework: routers and turns (dispatch), flow state (state), messages built from content (messages),
typed equivalents of taps (typed, numbered), the steps both participation flows share (participation), and the
basic handlers (commands, menu, media, follow, fallback)."""
