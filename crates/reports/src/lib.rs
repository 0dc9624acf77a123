//! Report documents and evidence packs (being written).
