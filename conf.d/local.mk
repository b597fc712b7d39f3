# sample configuration and its installation
