"""Shipping quotes: price by weight band, free shipping over a threshold, arrival day."""

# (heaviest weight in kg, price) bands, lightest first.
BANDS = [(1.0, 4.5), (5.0, 9.0), (20.0, 18.0)]
FREE_OVER = 50.0
VOLUME_DIVISOR = 5000


def volumetric_weight(length, width, height):
    """The weight carriers charge for the space a parcel takes (cm in, kg out)."""
    return length * width * height / VOLUME_DIVISOR


def billable_weight(weight, dimensions):
    """The larger of the actual and the volumetric weight."""
    return max(weight, volumetric_weight(*dimensions))


def band_price(weight):
    """The price of the lightest band that takes the weight."""
    if weight <= 0:
        raise ValueError(f"weight must be positive, got {weight}")
    for limit, price in BANDS:
        if weight < limit:
            return price
    raise ValueError(f"{weight} kg is too heavy to ship")


def quote(weight, dimensions, order_total):
    """The shipping price of an order; free from FREE_OVER up."""
    if order_total >= FREE_OVER:
        return 0.0
    return band_price(billable_weight(weight, dimensions))


def arrival_day(ship_day, transit_days):
    """The day a parcel arrives; days count from a Monday as 0 and weekends do not count."""
    day = ship_day
    left = transit_days
    while left > 0:
        day += 1
        if day % 7 < 6:
            left -= 1
    return day
