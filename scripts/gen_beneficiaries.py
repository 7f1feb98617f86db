#!/usr/bin/env python3
"""Writes N beneficiaries as CSV (valid GB 11643 ID numbers), for the import benchmark.

    python3 scripts/gen_beneficiaries.py 100000 > /tmp/b100k.csv
"""
import sys

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
CATEGORIES = ["veteran", "active_duty", "military_family", "disabled_veteran", "martyr_family"]
REGIONS = ["440303", "440304", "440305", "440306", "440307", "440308", "440309", "440310", "440311"]
HONORS = ["", "", "", "三等功", "二等功", "一等功"]


def id_number(n: int) -> str:
    # Birth dates cycle through 1950–1999; the sequence part keeps every number unique.
    year = 1950 + n % 50
    month = 1 + n // 50 % 12
    day = 1 + n // 600 % 28
    seq = n // 16800 % 1000
    first17 = f"440303{year:04d}{month:02d}{day:02d}{seq:03d}"
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return first17 + CHECK[total % 11]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    if count > 16800 * 1000:
        sys.exit("at most 16,800,000 distinct rows")
    out = sys.stdout
    out.write("name,id_number,phone,category,honors,region_code\n")
    for n in range(count):
        out.write(
            f"持卡人{n},{id_number(n)},1{3 + n % 7}{n % 100000000:09d},"
            f"{CATEGORIES[n % 5]},{HONORS[n % 6]},{REGIONS[n % 9]}\n"
        )


if __name__ == "__main__":
    main()
