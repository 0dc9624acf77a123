//! The guided questionnaire (being written).
