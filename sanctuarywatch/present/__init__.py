"""What people read: the report, the chart, exports, the demo, the lake."""
