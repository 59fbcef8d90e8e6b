"""vocseg's Scrapy project: spiders that collect customer voice into the vocseg store."""
