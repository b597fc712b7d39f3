# backend client sources added to the modules' convenience library
