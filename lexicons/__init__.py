"""Data only: drug lexicon, regimens, CAR-T products, ConText rules, section titles."""
