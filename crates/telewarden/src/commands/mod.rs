pub mod audit;
pub mod backup;
pub mod config_check;
pub mod health;
pub mod keys;
pub mod serve;
