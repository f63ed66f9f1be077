//! The health checkers: one probe per real server, results into health state.
