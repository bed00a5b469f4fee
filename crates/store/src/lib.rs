//! The object sink seam and the default store of pre-rendered text, with family-major scrapes.
