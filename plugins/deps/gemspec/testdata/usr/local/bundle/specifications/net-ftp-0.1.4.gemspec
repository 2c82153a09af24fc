# -*- encoding: utf-8 -*-
# stub: net-ftp 0.1.4 ruby lib

Gem::Specification.new do |s|
  s.name = "net-ftp".freeze
  s.version = "0