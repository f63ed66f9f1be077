//! Renderers: they only format data they are given.

pub(crate) mod json;
pub(crate) mod table;
pub(crate) mod text;
