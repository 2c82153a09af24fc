Gem::Specification.new do |spec|
  spec.name          = 'hello-world'
  spec.version       = Gem::Version.new('0.0.1')
  spec.license       = 'BSD-3-Clause'
  spec.summary       = 'A spec written by hand, installed from a path'
end
