// Size-over-time analysis (see TrafficAnalysis issue).
