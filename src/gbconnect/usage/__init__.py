"""Usage data: UsagePoint, MeterReading, ReadingType, IntervalBlock, summaries."""
