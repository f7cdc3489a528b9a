"""hugetlb: the folio life cycle (hugetlb.py) and HVO / de-HVO per version (hvo.py)."""
