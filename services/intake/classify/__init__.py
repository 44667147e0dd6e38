"""Call classification: Art 11 phrase rules, a trained type/category model, the gazetteer."""
