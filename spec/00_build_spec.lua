-- Guards the suite against testing an installed copy by mistake: the C
-- core must come from the in-tree build and the Lua code from ./lua.

describe("the in-tree build", function()
  it("puts crosstenant.core from ./build/ on package.cpath", function()
    local found, err = package.searchpath("crosstenant.core", package.cpath)
    assert.is_string(found, err)
    assert.truthy(found:match("^%./build/[%w_-]+/crosstenant/core%.so$"),
      "crosstenant.core found at " .. tostring(found))
  end)

  it("finds crosstenant as ./lua/crosstenant/init.lua", function()
    local found, err = package.searchpath("crosstenant", package.path)
    assert.are.equal("./lua/crosstenant/init.lua", found, err)
  end)
end)
