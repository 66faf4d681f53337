//! A realistic demo catalog, the same for the same seed.
