//! Renderers: they only format data they are given.

pub mod json;
pub mod table;
pub mod text;
