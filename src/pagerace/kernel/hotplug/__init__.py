"""Memory hotplug: configuration (config.py), memory blocks and notifiers
(memory_hotplug.py), page isolation, offline_pages(), memory removal and virtio-mem."""
