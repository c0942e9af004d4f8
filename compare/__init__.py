"""Run the Flask and Quart bookstores side by side and measure how they differ."""
