"""Product pricing by SKU (the seed's My Price for SKU and Competitive Prices By SKU) per marketplace."""
