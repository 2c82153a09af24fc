# -*- encoding: utf-8 -*-

Gem::Specification.new do |s|
  s.name = %q{daemons}
  s.version = "1.1.9"

  s.required_rubygems_version = Gem::Requirement.new(">= 0") if s.respond_to? :required_rubygems_version=
  s.authors = [%q{Thomas Uehlinger}]
  s.date = %q{2012-08-10}
  s.description = %q{Daemons provides an easy way to wrap existing ruby scripts (for example a self-written server)  to be run as a daemon and to be controlled by simple start/stop/restart commands.}
  s.email = %q{th.uehlinger@gmx.ch}
  s.homepage = %q{http://daemons.rubyforge.org}
  s.licenses = %w[MIT]
  s.require_paths = [%q{lib}]
  s.rubygems_version = %q{1.8.11}
  s.summary = %q{A toolkit to create and control daemons in different ways}

  if s.respond_to? :specification_version then
    s.specification_version = 3
  end
end
