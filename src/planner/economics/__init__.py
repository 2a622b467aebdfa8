"""What the service costs and what it buys: costs, police value, the R-109 appraisal, the
tornado and the Monte Carlo (``appraisal``)."""
