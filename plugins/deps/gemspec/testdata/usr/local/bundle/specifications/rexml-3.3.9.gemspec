# -*- encoding: utf-8 -*-
# stub: rexml 3.3.9 ruby lib

Gem::Specification.new do |s|
  s.name = "rexml".freeze
  s.version = "3.3.9"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.metadata = { "changelog_uri" => "https://github.