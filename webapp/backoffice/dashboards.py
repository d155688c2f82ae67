"""RFM dashboards, movement between snapshots, cross-shop prescription, zone coverage."""
